BEGIN TRANSACTION;
CREATE TABLE case_history (
	case_id INTEGER NOT NULL, 
	seq INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(200) NOT NULL, 
	action VARCHAR(32) NOT NULL, 
	from_state VARCHAR(16), 
	to_state VARCHAR(16), 
	note TEXT NOT NULL, 
	details JSON, 
	PRIMARY KEY (case_id, seq), 
	FOREIGN KEY(case_id) REFERENCES cases (id)
);
INSERT INTO "case_history" VALUES(1,1,'2026-06-05 10:00:00.000000','老王','opened',NULL,'new','','{}');
INSERT INTO "case_history" VALUES(1,2,'2026-06-05 11:00:00.000000','老王','transition','new','dispatched','','{}');
INSERT INTO "case_history" VALUES(1,3,'2026-06-05 12:00:00.000000','老王','transition','dispatched','verifying','','{}');
INSERT INTO "case_history" VALUES(1,4,'2026-06-05 13:00:00.000000','老王','transition','verifying','confirmed','','{"workers_affected": 7, "amount_owed": 51000.0}');
INSERT INTO "case_history" VALUES(2,1,'2026-06-05 10:00:00.000000','老王','opened',NULL,'new','','{}');
INSERT INTO "case_history" VALUES(2,2,'2026-06-05 11:00:00.000000','老王','transition','new','dispatched','','{}');
INSERT INTO "case_history" VALUES(2,3,'2026-06-05 12:00:00.000000','老王','transition','dispatched','verifying','','{}');
INSERT INTO "case_history" VALUES(2,4,'2026-06-05 13:00:00.000000','老王','transition','verifying','false_alarm','','{}');
INSERT INTO "case_history" VALUES(2,5,'2026-06-05 14:00:00.000000','老王','transition','false_alarm','closed','','{}');
CREATE TABLE cases (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	enterprise_id VARCHAR(32) NOT NULL, 
	as_of VARCHAR(7) NOT NULL, 
	level VARCHAR(8) NOT NULL, 
	score FLOAT NOT NULL, 
	reasons JSON, 
	model_name VARCHAR(200) NOT NULL, 
	model_version VARCHAR(100) NOT NULL, 
	industry VARCHAR(8), 
	region VARCHAR(16), 
	unit VARCHAR(200) NOT NULL, 
	grid VARCHAR(200), 
	status VARCHAR(16) NOT NULL, 
	stage_started_at DATETIME NOT NULL, 
	due_at DATETIME, 
	version INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	updated_by VARCHAR(200) NOT NULL
);
INSERT INTO "cases" VALUES(1,'91330502MA2B3C4D01','2026-05','orange',0.62,'[{"feature": "pay_delay", "text_zh": "工资延迟"}]','anxin-arrears','1','E','330502','人社劳动监察大队','330502','confirmed','2026-06-05 13:00:00.000000','2026-06-12 13:00:00.000000',4,'2026-06-05 09:00:00.000000','2026-06-05 13:00:00.000000','老王');
INSERT INTO "cases" VALUES(2,'91330502MA2B3C4D02','2026-05','red',0.91,'[{"feature": "pay_delay", "text_zh": "工资延迟"}]','anxin-arrears','1','C','330502','人社劳动监察大队','330502','closed','2026-06-05 14:00:00.000000',NULL,5,'2026-06-05 09:00:00.000000','2026-06-05 14:00:00.000000','老王');
CREATE TABLE schema_migrations (
	name VARCHAR(100) NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (name)
);
INSERT INTO "schema_migrations" VALUES('0001_initial','2026-11-30 01:21:00.000000');
CREATE INDEX ix_cases_status ON cases (status);
CREATE INDEX ix_cases_enterprise_id ON cases (enterprise_id);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('cases',2);
COMMIT;
