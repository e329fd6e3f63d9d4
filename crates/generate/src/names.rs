//! The names people are given in generated logs (and in the committed
//! examples): invented, so no real person is named.

pub const FIRST: [&str; 16] = [
    "Alex",
    "Bernadette",
    "Chidi",
    "Dawn",
    "Eamon",
    "Farah",
    "Gareth",
    "Hana",
    "Imran",
    "Joan",
    "Kwame",
    "Lesley",
    "Morag",
    "Niamh",
    "Owen",
    "Priya",
];

pub const LAST: [&str; 14] = [
    "Archer", "Bhatt", "Cole", "Davies", "Evans", "Fowler", "Greene", "Hughes", "Iqbal", "Jones",
    "Kaur", "Lewis", "Morgan", "Nowak",
];
