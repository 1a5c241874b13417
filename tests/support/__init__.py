"""Test support: factories and helpers that tests import (never one test module from another)."""
