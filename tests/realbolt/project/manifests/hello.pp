# A manifest of the scenario project for `bolt apply` tests: one notify, nothing on disk.
notify { 'hello from a project manifest': }
