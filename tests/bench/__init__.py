"""Tests of the benchmark harness's own parts."""
