"""Helpers shared by the test suites: servers, fakes, request and read helpers. No tests here.

Test modules import from here (or from a conftest's fixtures), never from another test module.
"""
