"""Web (trang cho mọi người): the club's pages in a browser — sign-in, reporters, members and the public.

It keeps no copy of case data: every page reads and writes through intake's, routing's and reporting's
public HTTP APIs with the signed-in person's own bearer token, so roles, unit scoping and audit stay where
they are enforced today. Its own schema `web` holds only sessions. See docs/web.md."""
