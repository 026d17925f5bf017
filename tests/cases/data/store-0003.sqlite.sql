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
INSERT INTO "case_history" VALUES(1,1,'2026-06-05 09:00:00.000000','system','opened',NULL,'new','','{"as_of": "2026-06", "level": "red", "score": 0.91, "model_name": "anxin-arrears", "model_version": "1", "unit": "住建局+人社劳动监察大队", "grid": "330502", "due_at": "2026-06-05T13:00:00"}');
INSERT INTO "case_history" VALUES(2,1,'2026-06-05 09:00:00.000000','system','opened',NULL,'new','','{"as_of": "2026-06", "level": "red", "score": 0.91, "model_name": "anxin-arrears", "model_version": "1", "unit": "人社劳动监察大队", "grid": "330502", "due_at": "2026-06-05T13:00:00"}');
INSERT INTO "case_history" VALUES(3,1,'2026-06-05 09:00:00.000000','system','opened',NULL,'new','','{"as_of": "2026-06", "level": "orange", "score": 0.62, "model_name": "anxin-arrears", "model_version": "1", "unit": "人社劳动监察大队", "grid": "330521", "due_at": "2026-06-08T09:00:00"}');
INSERT INTO "case_history" VALUES(4,1,'2026-06-05 09:00:00.000000','system','opened',NULL,'new','','{"as_of": "2026-06", "level": "orange", "score": 0.62, "model_name": "anxin-arrears", "model_version": "1", "unit": "人社劳动监察大队", "grid": "330502", "due_at": "2026-06-08T09:00:00"}');
INSERT INTO "case_history" VALUES(5,1,'2026-06-05 09:00:00.000000','system','opened',NULL,'new','','{"as_of": "2026-06", "level": "yellow", "score": 0.35, "model_name": "anxin-arrears", "model_version": "1", "unit": "住建局+人社劳动监察大队", "grid": "330521", "due_at": "2026-06-09T09:00:00"}');
INSERT INTO "case_history" VALUES(6,1,'2026-06-05 09:00:00.000000','system','opened',NULL,'new','','{"as_of": "2026-06", "level": "yellow", "score": 0.35, "model_name": "anxin-arrears", "model_version": "1", "unit": "人社劳动监察大队", "grid": "330502", "due_at": "2026-06-09T09:00:00"}');
INSERT INTO "case_history" VALUES(1,2,'2026-06-05 11:00:00.000000','核查员李','transition','new','dispatched','dispatched 备注','{"due_at": "2026-06-08T11:00:00"}');
INSERT INTO "case_history" VALUES(1,3,'2026-06-05 13:00:00.000000','核查员李','transition','dispatched','verifying','verifying 备注','{}');
INSERT INTO "case_history" VALUES(1,4,'2026-06-05 15:00:00.000000','核查员李','transition','verifying','confirmed','confirmed 备注','{"due_at": "2026-06-12T15:00:00", "workers_affected": 12, "amount_owed": 96000.0}');
INSERT INTO "case_history" VALUES(1,5,'2026-06-05 17:00:00.000000','核查员李','transition','confirmed','handling','handling 备注','{}');
INSERT INTO "case_history" VALUES(1,6,'2026-06-05 19:00:00.000000','核查员李','transition','handling','resolved','resolved 备注','{"due_at": "2026-06-09T19:00:00", "workers_affected": 13, "amount_owed": 99000.0}');
INSERT INTO "case_history" VALUES(1,7,'2026-06-05 21:00:00.000000','核查员李','transition','resolved','closed','closed 备注','{"due_at": null}');
INSERT INTO "case_history" VALUES(2,2,'2026-06-05 22:00:00.000000','派单员王','transition','new','dispatched','','{"due_at": "2026-06-08T22:00:00"}');
INSERT INTO "case_history" VALUES(2,3,'2026-06-05 23:00:00.000000','派单员王','transition','dispatched','verifying','','{}');
INSERT INTO "case_history" VALUES(2,4,'2026-06-06 00:00:00.000000','派单员王','transition','verifying','false_alarm','','{"due_at": "2026-06-09T00:00:00"}');
INSERT INTO "case_history" VALUES(3,2,'2026-06-06 00:00:00.000000','派单员王','transition','new','dispatched','','{"due_at": "2026-06-10T00:00:00"}');
INSERT INTO "case_history" VALUES(7,1,'2026-06-06 09:00:00.000000','scoring-job','opened',NULL,'new','','{"as_of": "2026-07", "level": "red", "score": 0.91, "model_name": "anxin-arrears", "model_version": "2", "unit": "住建局+人社劳动监察大队", "grid": "330502", "due_at": "2026-06-06T13:00:00"}');
INSERT INTO "case_history" VALUES(4,2,'2026-06-06 09:00:00.000000','scoring-job','escalated','new','new','','{"from_level": "orange", "to_level": "red", "from_score": 0.62, "to_score": 0.91, "from_as_of": "2026-06", "to_as_of": "2026-07", "model_name": "anxin-arrears", "model_version": "2", "due_at": "2026-06-05T13:00:00"}');
INSERT INTO "case_history" VALUES(4,3,'2026-06-15 09:00:00.000000','督办系统','overdue_escalated','new','new','dispatch deadline passed 236.0 h ago','{"stage": "dispatch", "due_at": "2026-06-05T13:00:00", "hours_overdue": 236.0}');
INSERT INTO "case_history" VALUES(7,2,'2026-06-15 09:00:00.000000','督办系统','overdue_escalated','new','new','dispatch deadline passed 212.0 h ago','{"stage": "dispatch", "due_at": "2026-06-06T13:00:00", "hours_overdue": 212.0}');
INSERT INTO "case_history" VALUES(2,5,'2026-06-15 09:00:00.000000','督办系统','overdue_escalated','false_alarm','false_alarm','close deadline passed 153.0 h ago','{"stage": "close", "due_at": "2026-06-09T00:00:00", "hours_overdue": 153.0}');
INSERT INTO "case_history" VALUES(5,2,'2026-06-15 09:00:00.000000','督办系统','overdue_escalated','new','new','dispatch deadline passed 144.0 h ago','{"stage": "dispatch", "due_at": "2026-06-09T09:00:00", "hours_overdue": 144.0}');
INSERT INTO "case_history" VALUES(6,2,'2026-06-15 09:00:00.000000','督办系统','overdue_escalated','new','new','dispatch deadline passed 144.0 h ago','{"stage": "dispatch", "due_at": "2026-06-09T09:00:00", "hours_overdue": 144.0}');
INSERT INTO "case_history" VALUES(3,3,'2026-06-15 09:00:00.000000','督办系统','overdue_escalated','dispatched','dispatched','verify deadline passed 129.0 h ago','{"stage": "verify", "due_at": "2026-06-10T00:00:00", "hours_overdue": 129.0}');
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
, escalations INTEGER NOT NULL DEFAULT 0, overdue_stage VARCHAR(16), outcome VARCHAR(16), verified_at DATETIME, verified_level VARCHAR(8), verified_as_of VARCHAR(7), verified_model_name VARCHAR(200), verified_model_version VARCHAR(100), workers_affected INTEGER, amount_owed FLOAT, closed_at DATETIME);
INSERT INTO "cases" VALUES(1,'91330502MA2B3C4D01','2026-06','red',0.91,'[{"group": "payroll", "contribution": 0.42, "feature": "pay_delay_days_3m", "value": 17.0, "text_zh": "近三个月工资平均延迟17天", "text_en": "wages paid 17 days late on average"}]','anxin-arrears','1','E','330502','住建局+人社劳动监察大队','330502','closed','2026-06-05 21:00:00.000000',NULL,7,'2026-06-05 09:00:00.000000','2026-06-05 21:00:00.000000','核查员李',0,NULL,'confirmed','2026-06-05 15:00:00.000000','red','2026-06','anxin-arrears','1',13,99000.0,'2026-06-05 21:00:00.000000');
INSERT INTO "cases" VALUES(2,'91330502MA2B3C4D02','2026-06','red',0.91,'[]','anxin-arrears','1','C','330502','人社劳动监察大队','330502','false_alarm','2026-06-06 00:00:00.000000','2026-06-09 00:00:00.000000',5,'2026-06-05 09:00:00.000000','2026-06-15 09:00:00.000000','督办系统',1,'close','false_alarm','2026-06-06 00:00:00.000000','red','2026-06','anxin-arrears','1',NULL,NULL,NULL);
INSERT INTO "cases" VALUES(3,'91330502MA2B3C4D03','2026-06','orange',0.62,'[]','anxin-arrears','1','C','330521','人社劳动监察大队','330521','dispatched','2026-06-06 00:00:00.000000','2026-06-10 00:00:00.000000',3,'2026-06-05 09:00:00.000000','2026-06-15 09:00:00.000000','督办系统',1,'verify',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO "cases" VALUES(4,'91330502MA2B3C4D04','2026-07','red',0.91,'[]','anxin-arrears','2','G','330502','人社劳动监察大队','330502','new','2026-06-05 09:00:00.000000','2026-06-05 13:00:00.000000',3,'2026-06-05 09:00:00.000000','2026-06-15 09:00:00.000000','督办系统',1,'dispatch',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO "cases" VALUES(5,'91330502MA2B3C4D05','2026-06','yellow',0.35,'[]','anxin-arrears','1','E','330521','住建局+人社劳动监察大队','330521','new','2026-06-05 09:00:00.000000','2026-06-09 09:00:00.000000',2,'2026-06-05 09:00:00.000000','2026-06-15 09:00:00.000000','督办系统',1,'dispatch',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO "cases" VALUES(6,'91330502MA2B3C4D06','2026-06','yellow',0.35,'[]','anxin-arrears','1','K','330502','人社劳动监察大队','330502','new','2026-06-05 09:00:00.000000','2026-06-09 09:00:00.000000',2,'2026-06-05 09:00:00.000000','2026-06-15 09:00:00.000000','督办系统',1,'dispatch',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO "cases" VALUES(7,'91330502MA2B3C4D01','2026-07','red',0.91,'[{"group": "payroll", "contribution": 0.42, "feature": "pay_delay_days_3m", "value": 17.0, "text_zh": "近三个月工资平均延迟17天", "text_en": "wages paid 17 days late on average"}]','anxin-arrears','2','E','330502','住建局+人社劳动监察大队','330502','new','2026-06-06 09:00:00.000000','2026-06-06 13:00:00.000000',2,'2026-06-06 09:00:00.000000','2026-06-15 09:00:00.000000','督办系统',1,'dispatch',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE schema_migrations (
	name VARCHAR(100) NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (name)
);
INSERT INTO "schema_migrations" VALUES('0001_initial','2026-11-30 01:21:00.000000');
INSERT INTO "schema_migrations" VALUES('0002_outcomes_and_escalation','2026-11-30 01:21:00.000000');
INSERT INTO "schema_migrations" VALUES('0003_one_open_case_per_enterprise','2026-11-30 01:21:00.000000');
CREATE INDEX ix_cases_enterprise_id ON cases (enterprise_id);
CREATE INDEX ix_cases_status ON cases (status);
CREATE UNIQUE INDEX uq_cases_open_enterprise ON cases (enterprise_id) WHERE status != 'closed';
CREATE INDEX ix_cases_due_at ON cases (due_at);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('cases',7);
COMMIT;
