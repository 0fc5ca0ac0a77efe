//! The one executor: sends core request plans through the configured proxy with gloo-net.
