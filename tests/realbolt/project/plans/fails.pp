# @summary Fails at once with fail_plan
# @param why The reason given in the error's details
plan demo::fails(String $why = 'because') {
  fail_plan('boom', 'demo/custom', { 'why' => $why })
}
