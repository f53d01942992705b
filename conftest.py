# Doctests run over pyjinit/ (pyproject: --doctest-modules); running __main__ would exit the session.
collect_ignore = ["pyjinit/__main__.py", "hatch_build.py", "bench/run.py"]
