pub mod calendar;
pub mod duration;
