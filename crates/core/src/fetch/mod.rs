//! Sans-IO fetch layer: request plans, response steps, typed carrier errors.
