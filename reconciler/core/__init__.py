"""Values and planning: the manifest's and the APIs' data, the plan and the rules that make it. Pure: no I/O."""
