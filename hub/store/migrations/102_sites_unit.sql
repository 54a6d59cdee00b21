-- Sites of a unit are looked up when one employee's month is re-derived (site policy, time zone).
CREATE INDEX sites_unit ON sites (unit_code);
