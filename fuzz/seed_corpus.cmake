# Writes the seed corpora of the fuzz targets from the repository's own files, one folder per
# target under OUT, each seed named by the SHA-1 of its content (as libFuzzer names its finds).
#   cmake -DSOURCE_DIR=<repository> -DOUT=<folder> -P seed_corpus.cmake
# Files over MAX_BYTES are left out: the targets run with -max_len of that size and would only
# see a truncated, invalid prefix.
set(MAX_BYTES 65536)
file(REMOVE_RECURSE ${OUT})

function(add_seed target text)
  string(SHA1 name "${text}")
  file(WRITE ${OUT}/${target}/${name} "${text}")
endfunction()

function(add_seed_files target)
  foreach(f ${ARGN})
    file(SIZE ${f} bytes)
    if(bytes LESS_EQUAL MAX_BYTES)
      file(SHA1 ${f} name)
      file(COPY_FILE ${f} ${OUT}/${target}/${name})
    endif()
  endforeach()
endfunction()

function(ensure_dir target)
  file(MAKE_DIRECTORY ${OUT}/${target})
endfunction()
foreach(t scenario protocol report thresholds)
  ensure_dir(${t})
endforeach()

# Scenarios: every YAML file of the repository's scenarios and test data (the invalid ones too).
file(GLOB_RECURSE yaml ${SOURCE_DIR}/scenarios/*.yaml ${SOURCE_DIR}/scenarios/*.yml
     ${SOURCE_DIR}/tests/data/*.yaml ${SOURCE_DIR}/tests/data/*.yml)
add_seed_files(scenario ${yaml})

# Thresholds: the thresholds files of the test data and of the benchmark baseline.
file(GLOB_RECURSE thresholds ${SOURCE_DIR}/tests/data/*thresholds*.yaml
     ${SOURCE_DIR}/bench/baseline/*thresholds*.yaml)
add_seed_files(thresholds ${thresholds})

# Protocol: each worker line of the sample and of the protocol reference alone, and the sample
# as one stream.
set(protocol_sample ${SOURCE_DIR}/tests/data/protocol_sample.txt)
add_seed_files(protocol ${protocol_sample})
file(STRINGS ${protocol_sample} lines)
file(STRINGS ${SOURCE_DIR}/docs/protocol.md doc_lines REGEX "^{")
foreach(line IN LISTS lines doc_lines)
  add_seed(protocol "${line}")
endforeach()

# Reports: report.json files and Google Benchmark files, alone and as base + candidate pairs
# of the same folder, joined by a form feed (report_fuzzer.cpp).
string(ASCII 12 form_feed)
file(GLOB_RECURSE json ${SOURCE_DIR}/reports/*.json ${SOURCE_DIR}/tests/data/*.json
     ${SOURCE_DIR}/bench/*.json)
add_seed_files(report ${json})
foreach(a ${json})
  foreach(b ${json})
    get_filename_component(dir_a ${a} DIRECTORY)
    get_filename_component(dir_b ${b} DIRECTORY)
    if(NOT a STREQUAL b AND dir_a STREQUAL dir_b)
      file(SIZE ${a} size_a)
      file(SIZE ${b} size_b)
      math(EXPR size "${size_a} + ${size_b} + 1")
      if(size LESS_EQUAL MAX_BYTES)
        file(READ ${a} text_a)
        file(READ ${b} text_b)
        add_seed(report "${text_a}${form_feed}${text_b}")
      endif()
    endif()
  endforeach()
endforeach()

foreach(t scenario protocol report thresholds)
  file(GLOB seeds ${OUT}/${t}/*)
  list(LENGTH seeds n)
  message(STATUS "fuzz seeds: ${t}: ${n}")
endforeach()
