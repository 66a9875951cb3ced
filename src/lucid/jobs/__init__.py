"""Jobs: the periodic work of a project (its ticks) and the scheduler that runs them."""
