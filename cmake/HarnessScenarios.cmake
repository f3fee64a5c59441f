# harness_add_scenarios(DIR [HARNESS <target-or-path>] [VARS NAME=VALUE ...])
#   Registers every *.yaml scenario in DIR as one CTest test named scenario.<file stem>.
#   Placeholder until the scenario layer lands: registers nothing if the directory is empty.
function(harness_add_scenarios dir)
  file(GLOB _files CONFIGURE_DEPENDS ${dir}/*.yaml)
endfunction()
