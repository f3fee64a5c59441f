#pragma once
// Whether this test binary runs under AddressSanitizer (HARNESS_DEVELOP=ON): its shadow memory
// and its quarantine of freed blocks are not the harness's, so a bound on the harness's RSS only
// means something in a build without it.

namespace harness::testing_support {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace harness::testing_support
