"""Tooling for developers, tests and benchmarks, apart from the test suite: the process runner
(`processes`), the SMTP sink (`mailsink`), the database and vhost helper (`infra`), the Zalo OA stub
(`zalo_stub`), a TCP proxy that cuts connections (`tcp_proxy`), polling (`waiting`), the whole system as
real processes (`system`) and a listener on the events exchange (`tap`). `make run`, `bench/` and `tests/`
import it; it imports neither of them, and nothing in `services/` or `shared/` imports it."""
