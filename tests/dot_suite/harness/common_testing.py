"""The test case bases DOT's modules import (``from .common_testing import ...``).

One database: the multi-database variants of DOT's suite are not part of this harness
(docs/dot-suite.md), so the bases are Django's own.
"""

from django.test import TestCase, TransactionTestCase


class OAuth2ProviderTestCase(TestCase):
    pass


class OAuth2ProviderTransactionTestCase(TransactionTestCase):
    pass


test_database_names = {"default"}
database_for_oauth2_provider = "default"
