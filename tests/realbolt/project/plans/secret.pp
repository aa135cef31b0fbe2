# @summary Hands a Sensitive token to a command and returns it (it must never show in Boltdeck)
# @param targets The targets to run on
# @param token The secret
plan demo::secret(TargetSpec $targets, Sensitive[String] $token) {
  run_command("echo token=${token.unwrap}", $targets)
  out::message("token ${token.unwrap}")
  return $token.unwrap
}
