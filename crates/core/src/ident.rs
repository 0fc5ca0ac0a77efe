//! Identifier validation: every identifier is checked before a request is sent.
