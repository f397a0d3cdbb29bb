-- Catalog (airports, flights, cabins) and holds. Money is integer minor units + currency.
-- Statements are separated by a semicolon at the end of a line (see inventory/migrate.py).

CREATE TABLE IF NOT EXISTS airports (
    iata CHAR(3) NOT NULL PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    city VARCHAR(120) NOT NULL,
    country CHAR(2) NOT NULL,
    tz VARCHAR(64) NOT NULL,
    lat DOUBLE NOT NULL,
    lon DOUBLE NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS flights (
    id BIGINT NOT NULL PRIMARY KEY,
    flight_no VARCHAR(8) NOT NULL,
    carrier CHAR(2) NOT NULL,
    origin CHAR(3) NOT NULL,
    destination CHAR(3) NOT NULL,
    departure_utc DATETIME NOT NULL,
    arrival_utc DATETIME NOT NULL,
    departure_date_local DATE NOT NULL,
    duration_min INT NOT NULL,
    -- Serves search by route and local date, already in (departure_utc, id) page order.
    INDEX ix_flights_search (origin, destination, departure_date_local, departure_utc, id),
    CONSTRAINT fk_flights_origin FOREIGN KEY (origin) REFERENCES airports (iata),
    CONSTRAINT fk_flights_destination FOREIGN KEY (destination) REFERENCES airports (iata),
    CONSTRAINT ck_flights_times CHECK (arrival_utc > departure_utc AND duration_min > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS flight_cabins (
    flight_id BIGINT NOT NULL,
    cabin ENUM('economy', 'business') NOT NULL,
    capacity INT NOT NULL,
    available INT NOT NULL,
    held INT NOT NULL DEFAULT 0,
    sold INT NOT NULL DEFAULT 0,
    fare_amount INT NOT NULL,
    currency CHAR(3) NOT NULL,
    PRIMARY KEY (flight_id, cabin),
    CONSTRAINT fk_cabins_flight FOREIGN KEY (flight_id) REFERENCES flights (id),
    -- Invariant 1 of DESIGN.md, enforced by the database itself.
    CONSTRAINT ck_cabins_counts CHECK (available >= 0 AND held >= 0 AND sold >= 0
                                       AND capacity = available + held + sold),
    CONSTRAINT ck_cabins_fare CHECK (fare_amount >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS holds (
    id CHAR(32) NOT NULL PRIMARY KEY,
    customer_id VARCHAR(128) NOT NULL,
    status ENUM('active', 'confirmed', 'released', 'expired') NOT NULL,
    booking_id VARCHAR(64) NULL,
    total_amount INT NOT NULL,
    currency CHAR(3) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    -- The pool sets time_zone to UTC, so CURRENT_TIMESTAMP here is UTC like every other column.
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    INDEX ix_holds_status_expires (status, expires_at),
    INDEX ix_holds_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- kind has only 'flight' today; hotel items will add the enum value and their own columns,
-- which is why the flight columns are nullable.
CREATE TABLE IF NOT EXISTS hold_items (
    hold_id CHAR(32) NOT NULL,
    item_no SMALLINT NOT NULL,
    kind ENUM('flight') NOT NULL,
    flight_id BIGINT NULL,
    cabin ENUM('economy', 'business') NULL,
    quantity SMALLINT NOT NULL,
    unit_amount INT NOT NULL,
    currency CHAR(3) NOT NULL,
    PRIMARY KEY (hold_id, item_no),
    INDEX ix_hold_items_cabin (flight_id, cabin),
    CONSTRAINT fk_items_hold FOREIGN KEY (hold_id) REFERENCES holds (id),
    CONSTRAINT fk_items_cabin FOREIGN KEY (flight_id, cabin)
        REFERENCES flight_cabins (flight_id, cabin),
    CONSTRAINT ck_items_flight CHECK (kind <> 'flight' OR (flight_id IS NOT NULL
                                                          AND cabin IS NOT NULL)),
    CONSTRAINT ck_items_quantity CHECK (quantity > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
