use crate::support;
