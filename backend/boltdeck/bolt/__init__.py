"""Everything that knows the bolt CLI: argv builders, output parser, runner, metadata readers."""
