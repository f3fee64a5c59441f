# `cpack -G DEB` in the build folder makes inference-harness_<version>_<arch>.deb, installing the
# tree of cmake/HarnessInstall.cmake under /usr. Its Depends come from dpkg-shlibdeps run over the
# packaged programs, so they name exactly the runtime libraries the binaries load (libc6,
# libstdc++6, yaml-cpp, libproc2, fmt, Boost.Filesystem, OpenCV's modules for yolo_worker), never a
# -dev package and never a library the build only used.
set(CPACK_PACKAGE_NAME inference-harness)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "integration test harness and benchmarks for ML inference workers run as subprocesses")
set(CPACK_PACKAGE_DESCRIPTION
    "Runs YAML scenarios against real worker processes, measures their memory from /proc and \
reports pass/fail and benchmark data (JSON, JUnit XML, Markdown, HTML). Includes the harness \
command, the yolo_worker and fault_worker programs, and a CMake package \
(find_package(inference_harness)) with harness_add_scenarios() for CTest.")
set(CPACK_PACKAGE_CONTACT "inference-harness maintainers"
    CACHE STRING "Maintainer of the Debian package, as Name <email>")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # debug info is most of a RelWithDebInfo binary (harness: 38 MB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
