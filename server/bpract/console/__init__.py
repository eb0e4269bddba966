"""The console: web pages under ``/console`` where owners and marketers look after their
sites and write, launch and judge trigger rules.  People sign in through the inbox."""
