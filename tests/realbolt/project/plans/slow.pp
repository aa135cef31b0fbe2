# @summary One long command (for cancelling)
# @param targets The targets to run on
# @param seconds How long the command sleeps
plan demo::slow(TargetSpec $targets, Integer[1, 3600] $seconds = 60) {
  out::message('sleeping')
  run_command("sleep ${seconds}", $targets)
}
