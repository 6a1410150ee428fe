//! The ledger (in progress).
