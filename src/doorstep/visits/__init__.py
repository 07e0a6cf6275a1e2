"""Home-visit verification (上门核实): the workflow from proposal to follow-up, teams, routing."""
