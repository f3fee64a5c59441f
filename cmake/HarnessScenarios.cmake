# harness_add_scenarios(DIR
#                       [HARNESS <target or path>]   # default: inference_harness::harness
#                       [REPORT_DIR <dir>]            # default: ${CMAKE_BINARY_DIR}/reports/ctest
#                       [VARS NAME=VALUE ...]         # passed as --var NAME=VALUE (WORKERS, MODELS...)
#                       [LABELS label ...])           # added to every scenario's own labels
#
# Registers every scenario file under DIR as its own CTest test, named `scenario.<name>`, with the
# scenario's labels, a TIMEOUT derived from its worker timeout, repeats and matrix, and
# RESOURCE_LOCK memory for scenarios that judge memory (their figures must not be polluted by
# other workers running at the same time under `ctest -j`).
#
# inference_harness::harness is the harness found by find_package(inference_harness) (an
# imported executable) or, inside this project, the `harness` it builds. Variables not given in
# VARS take the harness's own defaults: an installed harness uses its installed workers for
# ${WORKERS}, the one in this build tree uses the build's folders.
#
# Like gtest_discover_tests, the registration happens at test time: a build step runs
# `harness list --ctest` over DIR and writes a CTest include file, so the labels and timeouts come
# from the YAML as the harness itself reads it, and a bad scenario fails the build with its
# file:line:col.
function(harness_add_scenarios dir)
  cmake_parse_arguments(ARG "" "HARNESS;REPORT_DIR" "VARS;LABELS" ${ARGN})
  if(NOT ARG_HARNESS)
    set(ARG_HARNESS inference_harness::harness)
  endif()
  if(NOT ARG_REPORT_DIR)
    set(ARG_REPORT_DIR ${CMAKE_BINARY_DIR}/reports/ctest)
  endif()
  if(TARGET ${ARG_HARNESS})
    set(harness_cmd $<TARGET_FILE:${ARG_HARNESS}>)
    get_target_property(imported ${ARG_HARNESS} IMPORTED)
    get_target_property(aliased ${ARG_HARNESS} ALIASED_TARGET)
    if(imported)  # nothing to build: registration reruns when the installed file changes
      set(harness_dep ${harness_cmd})
    elseif(aliased)
      set(harness_dep ${aliased})
    else()
      set(harness_dep ${ARG_HARNESS})
    endif()
  else()
    set(harness_cmd ${ARG_HARNESS})
    set(harness_dep)
  endif()

  get_filename_component(dir ${dir} ABSOLUTE)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS ${dir}/*.yaml ${dir}/*.yml)
  string(MAKE_C_IDENTIFIER ${dir} id)
  string(MD5 id ${id})
  string(SUBSTRING ${id} 0 8 id)
  get_filename_component(stem ${dir} NAME)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/scenarios_${stem}_${id}.cmake)

  set(var_args)
  foreach(v ${ARG_VARS})
    list(APPEND var_args --var ${v})
  endforeach()
  set(label_args)
  foreach(l ${ARG_LABELS})
    list(APPEND label_args --add-label ${l})
  endforeach()

  add_custom_command(
    OUTPUT ${out}
    COMMAND ${harness_cmd} list --ctest ${out} --report-dir ${ARG_REPORT_DIR} ${var_args}
            ${label_args} ${dir}
    DEPENDS ${harness_dep} ${files}
    COMMENT "Registering the scenarios in ${dir} with CTest"
    VERBATIM)
  add_custom_target(scenarios_${stem}_${id} ALL DEPENDS ${out})
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${out})
endfunction()
