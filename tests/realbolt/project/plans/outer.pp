# @summary Runs the inner plan, then a command of its own
# @param targets The targets to run on
plan demo::outer(TargetSpec $targets) {
  run_plan('demo::inner', targets => $targets)
  run_command('echo outer', $targets)
  return 'finished'
}
