# The harness is a package named ``tests`` only once run.py has copied it next to DOT's own test
# modules; collected from here (the project's suite) it would import as tests.dot_suite.harness
# under the project's settings. The project's suite never collects it.
collect_ignore = ["harness"]
