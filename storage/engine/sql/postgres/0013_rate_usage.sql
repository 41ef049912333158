-- Rate-limit counts each server process reports for the current window, so that
-- several workers or hosts on one database share every budget (README "Several
-- workers"). `who` is a key id (`k42`) or a client address (`a203.0.113.7`);
-- `window_no` counts `period`-second windows since the epoch; `process` is a
-- random name each server process takes at start. Transient: rows of ended
-- windows are deleted at each report, and the export leaves the table out.
CREATE TABLE rate_usage (
    period     BIGINT NOT NULL,
    window_no  BIGINT NOT NULL,
    who        TEXT   NOT NULL,
    process    TEXT   NOT NULL,
    used       BIGINT NOT NULL,
    PRIMARY KEY (period, window_no, who, process)
);
