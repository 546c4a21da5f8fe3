"""Strategy tracking for the 先进工业强市 plan (issue 5): targets, progress and projection, the
low-efficiency clean-up, tiered cultivation, projects, listings. Reads go through :mod:`mujun.views`."""
