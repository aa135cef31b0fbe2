# @api private
plan demo::hidden() {
  return 1
}
