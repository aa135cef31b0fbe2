# @summary Three steps: a slow command, a task, then a check that fails on the failing targets
# @param targets The targets every step runs on
# @param failing More targets for the last step only (it catches their failures)
# @param greeting Who the hello task greets
plan demo::steps(TargetSpec $targets, TargetSpec $failing, String[1] $greeting = 'world') {
  out::message("starting with ${greeting}")
  run_command('for i in 1 2 3; do echo "line $i"; sleep 0.5; done', $targets)
  run_task('demo::hello', $targets, name => $greeting)
  $checked = run_command('echo checked', [$targets, $failing], '_catch_errors' => true)
  out::message('done')
  return $checked
}
