"""Pure cores of the visits app: the transition table and the day's routing. No Django."""
