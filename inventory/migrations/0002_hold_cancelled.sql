-- A confirmed hold can be cancelled by checkout's cancel path; its sold seats go back on sale.
-- MODIFY with the full enum is re-runnable: running it twice leaves the same column.
ALTER TABLE holds MODIFY status ENUM('active', 'confirmed', 'released', 'expired', 'cancelled')
    NOT NULL;
