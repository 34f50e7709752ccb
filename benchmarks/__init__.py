"""Speed and soak scripts (run as `python benchmarks/NAME.py`). A regular package, so that
`benchmarks.soak` is ours and not the `benchmarks` package opacus installs into site-packages."""
