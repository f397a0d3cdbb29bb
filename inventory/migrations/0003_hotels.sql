-- Hotels, their room types and per-night room inventory; hold items that hold room nights.
-- Every statement is re-runnable (IF NOT EXISTS, MODIFY with the full definition), because
-- MySQL commits DDL one statement at a time and a crash may stop a migration half way.

CREATE TABLE IF NOT EXISTS hotels (
    id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    city VARCHAR(120) NOT NULL,
    country CHAR(2) NOT NULL,
    tz VARCHAR(64) NOT NULL,
    stars TINYINT NOT NULL,
    lat DOUBLE NOT NULL,
    lon DOUBLE NOT NULL,
    -- Serves hotel search by city (equality), in id order.
    INDEX ix_hotels_city (city, id),
    CONSTRAINT ck_hotels_stars CHECK (stars BETWEEN 1 AND 5)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS room_types (
    id BIGINT NOT NULL PRIMARY KEY,
    hotel_id BIGINT NOT NULL,
    code VARCHAR(32) NOT NULL,
    name VARCHAR(120) NOT NULL,
    max_guests TINYINT NOT NULL,
    UNIQUE INDEX uq_room_types_code (hotel_id, code),
    CONSTRAINT fk_room_types_hotel FOREIGN KEY (hotel_id) REFERENCES hotels (id),
    CONSTRAINT ck_room_types_guests CHECK (max_guests BETWEEN 1 AND 9)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per room type and night; the primary key is also the lock order of room nights.
CREATE TABLE IF NOT EXISTS room_nights (
    room_type_id BIGINT NOT NULL,
    night DATE NOT NULL,
    capacity INT NOT NULL,
    available INT NOT NULL,
    held INT NOT NULL DEFAULT 0,
    sold INT NOT NULL DEFAULT 0,
    rate_amount INT NOT NULL,
    currency CHAR(3) NOT NULL,
    PRIMARY KEY (room_type_id, night),
    CONSTRAINT fk_room_nights_type FOREIGN KEY (room_type_id) REFERENCES room_types (id),
    -- Invariant 1 of DESIGN.md for rooms, as for flight cabins.
    CONSTRAINT ck_room_nights_counts CHECK (available >= 0 AND held >= 0 AND sold >= 0
                                            AND capacity = available + held + sold),
    CONSTRAINT ck_room_nights_rate CHECK (rate_amount >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE hold_items MODIFY kind ENUM('flight', 'hotel') NOT NULL;

-- For a hotel item, quantity is the number of rooms and unit_amount the stay's price per room.
ALTER TABLE hold_items
    ADD COLUMN IF NOT EXISTS hotel_id BIGINT NULL,
    ADD COLUMN IF NOT EXISTS room_type_id BIGINT NULL,
    ADD COLUMN IF NOT EXISTS check_in DATE NULL,
    ADD COLUMN IF NOT EXISTS check_out DATE NULL;

ALTER TABLE hold_items ADD INDEX IF NOT EXISTS ix_hold_items_room (room_type_id, check_in);

ALTER TABLE hold_items ADD CONSTRAINT fk_items_room_type
    FOREIGN KEY IF NOT EXISTS (room_type_id) REFERENCES room_types (id);

ALTER TABLE hold_items ADD CONSTRAINT IF NOT EXISTS ck_items_hotel
    CHECK (kind <> 'hotel' OR (hotel_id IS NOT NULL AND room_type_id IS NOT NULL
                               AND check_in IS NOT NULL AND check_out > check_in));

-- Serves the admin's list of holds by status, newest first.
ALTER TABLE holds ADD INDEX IF NOT EXISTS ix_holds_status_created (status, created_at, id);
