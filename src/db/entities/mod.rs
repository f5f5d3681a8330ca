//! sea-orm entities, one module per table.

pub mod bakery;
pub mod dataset;
pub mod feedstock;
pub mod recipe_run;
pub mod webhook_delivery;
