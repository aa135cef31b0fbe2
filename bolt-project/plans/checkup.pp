# @summary Greet the targets, run a slow command and the hello task, then report
# @param targets The targets every step runs on
# @param greeting Who the hello task greets
plan demo::checkup(TargetSpec $targets, String[1] $greeting = 'world') {
  out::message("checking up, greeting ${greeting}")
  run_command('for i in 1 2 3; do echo "step $i"; sleep 1; done', $targets)
  $hello = run_task('demo::hello', $targets, name => $greeting)
  out::message('all steps done')
  return $hello
}
