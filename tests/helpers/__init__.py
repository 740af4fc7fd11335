"""What the tests share: settings and app builders, sign-up and sign-in steps, stores,
servers on loopback, data for the load and XSS sweeps.

Test modules and ``conftest.py`` files import from here, never from one another
(``tests/architecture/test_test_layout.py`` holds that); fixtures stay in the
``conftest.py`` files and build on these helpers.
"""
