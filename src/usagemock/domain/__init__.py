"""The billing domain: periods, usage over time, and each API's accounts. No web code here."""
