//! sea-orm entities, one module per table (SPEC §2).

pub mod bakery;
pub mod dataset;
pub mod feedstock;
pub mod recipe_run;
pub mod webhook_delivery;
