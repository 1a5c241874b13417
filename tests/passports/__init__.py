"""Tests of product passports."""
