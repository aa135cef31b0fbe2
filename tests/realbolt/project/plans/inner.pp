# @summary One command, run by demo::outer
# @param targets The targets to run on
plan demo::inner(TargetSpec $targets) {
  run_command('echo inner', $targets)
}
