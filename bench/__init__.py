"""Benchmarks: `python -m bench` measures the system on this machine against bare references built from
the same parts, in the same run, because absolute figures drift on a shared machine (see BENCHMARKS.md).
"""
