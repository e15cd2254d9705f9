//! ndp-tests (skeleton)
