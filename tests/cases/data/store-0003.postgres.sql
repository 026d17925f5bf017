--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: case_history; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.case_history (
    case_id integer NOT NULL,
    seq integer NOT NULL,
    at timestamp without time zone NOT NULL,
    actor character varying(200) NOT NULL,
    action character varying(32) NOT NULL,
    from_state character varying(16),
    to_state character varying(16),
    note text NOT NULL,
    details json
);


--
-- Name: cases; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.cases (
    id integer NOT NULL,
    enterprise_id character varying(32) NOT NULL,
    as_of character varying(7) NOT NULL,
    level character varying(8) NOT NULL,
    score double precision NOT NULL,
    reasons json,
    model_name character varying(200) NOT NULL,
    model_version character varying(100) NOT NULL,
    industry character varying(8),
    region character varying(16),
    unit character varying(200) NOT NULL,
    grid character varying(200),
    status character varying(16) NOT NULL,
    stage_started_at timestamp without time zone NOT NULL,
    due_at timestamp without time zone,
    version integer NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    updated_by character varying(200) NOT NULL,
    escalations integer DEFAULT 0 NOT NULL,
    overdue_stage character varying(16),
    outcome character varying(16),
    verified_at timestamp without time zone,
    verified_level character varying(8),
    verified_as_of character varying(7),
    verified_model_name character varying(200),
    verified_model_version character varying(100),
    workers_affected integer,
    amount_owed double precision,
    closed_at timestamp without time zone
);


--
-- Name: cases_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.cases_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: cases_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.cases_id_seq OWNED BY public.cases.id;


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    name character varying(100) NOT NULL,
    applied_at timestamp without time zone NOT NULL
);


--
-- Name: cases id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.cases ALTER COLUMN id SET DEFAULT nextval('public.cases_id_seq'::regclass);


--
-- Data for Name: case_history; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.case_history VALUES (1, 1, '2026-06-05 09:00:00', 'system', 'opened', NULL, 'new', '', '{"as_of": "2026-06", "level": "red", "score": 0.91, "model_name": "anxin-arrears", "model_version": "1", "unit": "住建局+人社劳动监察大队", "grid": "330502", "due_at": "2026-06-05T13:00:00"}');
INSERT INTO public.case_history VALUES (2, 1, '2026-06-05 09:00:00', 'system', 'opened', NULL, 'new', '', '{"as_of": "2026-06", "level": "red", "score": 0.91, "model_name": "anxin-arrears", "model_version": "1", "unit": "人社劳动监察大队", "grid": "330502", "due_at": "2026-06-05T13:00:00"}');
INSERT INTO public.case_history VALUES (3, 1, '2026-06-05 09:00:00', 'system', 'opened', NULL, 'new', '', '{"as_of": "2026-06", "level": "orange", "score": 0.62, "model_name": "anxin-arrears", "model_version": "1", "unit": "人社劳动监察大队", "grid": "330521", "due_at": "2026-06-08T09:00:00"}');
INSERT INTO public.case_history VALUES (4, 1, '2026-06-05 09:00:00', 'system', 'opened', NULL, 'new', '', '{"as_of": "2026-06", "level": "orange", "score": 0.62, "model_name": "anxin-arrears", "model_version": "1", "unit": "人社劳动监察大队", "grid": "330502", "due_at": "2026-06-08T09:00:00"}');
INSERT INTO public.case_history VALUES (5, 1, '2026-06-05 09:00:00', 'system', 'opened', NULL, 'new', '', '{"as_of": "2026-06", "level": "yellow", "score": 0.35, "model_name": "anxin-arrears", "model_version": "1", "unit": "住建局+人社劳动监察大队", "grid": "330521", "due_at": "2026-06-09T09:00:00"}');
INSERT INTO public.case_history VALUES (6, 1, '2026-06-05 09:00:00', 'system', 'opened', NULL, 'new', '', '{"as_of": "2026-06", "level": "yellow", "score": 0.35, "model_name": "anxin-arrears", "model_version": "1", "unit": "人社劳动监察大队", "grid": "330502", "due_at": "2026-06-09T09:00:00"}');
INSERT INTO public.case_history VALUES (1, 2, '2026-06-05 11:00:00', '核查员李', 'transition', 'new', 'dispatched', 'dispatched 备注', '{"due_at": "2026-06-08T11:00:00"}');
INSERT INTO public.case_history VALUES (1, 3, '2026-06-05 13:00:00', '核查员李', 'transition', 'dispatched', 'verifying', 'verifying 备注', '{}');
INSERT INTO public.case_history VALUES (1, 4, '2026-06-05 15:00:00', '核查员李', 'transition', 'verifying', 'confirmed', 'confirmed 备注', '{"due_at": "2026-06-12T15:00:00", "workers_affected": 12, "amount_owed": 96000.0}');
INSERT INTO public.case_history VALUES (1, 5, '2026-06-05 17:00:00', '核查员李', 'transition', 'confirmed', 'handling', 'handling 备注', '{}');
INSERT INTO public.case_history VALUES (1, 6, '2026-06-05 19:00:00', '核查员李', 'transition', 'handling', 'resolved', 'resolved 备注', '{"due_at": "2026-06-09T19:00:00", "workers_affected": 13, "amount_owed": 99000.0}');
INSERT INTO public.case_history VALUES (1, 7, '2026-06-05 21:00:00', '核查员李', 'transition', 'resolved', 'closed', 'closed 备注', '{"due_at": null}');
INSERT INTO public.case_history VALUES (2, 2, '2026-06-05 22:00:00', '派单员王', 'transition', 'new', 'dispatched', '', '{"due_at": "2026-06-08T22:00:00"}');
INSERT INTO public.case_history VALUES (2, 3, '2026-06-05 23:00:00', '派单员王', 'transition', 'dispatched', 'verifying', '', '{}');
INSERT INTO public.case_history VALUES (2, 4, '2026-06-06 00:00:00', '派单员王', 'transition', 'verifying', 'false_alarm', '', '{"due_at": "2026-06-09T00:00:00"}');
INSERT INTO public.case_history VALUES (3, 2, '2026-06-06 00:00:00', '派单员王', 'transition', 'new', 'dispatched', '', '{"due_at": "2026-06-10T00:00:00"}');
INSERT INTO public.case_history VALUES (7, 1, '2026-06-06 09:00:00', 'scoring-job', 'opened', NULL, 'new', '', '{"as_of": "2026-07", "level": "red", "score": 0.91, "model_name": "anxin-arrears", "model_version": "2", "unit": "住建局+人社劳动监察大队", "grid": "330502", "due_at": "2026-06-06T13:00:00"}');
INSERT INTO public.case_history VALUES (4, 2, '2026-06-06 09:00:00', 'scoring-job', 'escalated', 'new', 'new', '', '{"from_level": "orange", "to_level": "red", "from_score": 0.62, "to_score": 0.91, "from_as_of": "2026-06", "to_as_of": "2026-07", "model_name": "anxin-arrears", "model_version": "2", "due_at": "2026-06-05T13:00:00"}');
INSERT INTO public.case_history VALUES (4, 3, '2026-06-15 09:00:00', '督办系统', 'overdue_escalated', 'new', 'new', 'dispatch deadline passed 236.0 h ago', '{"stage": "dispatch", "due_at": "2026-06-05T13:00:00", "hours_overdue": 236.0}');
INSERT INTO public.case_history VALUES (7, 2, '2026-06-15 09:00:00', '督办系统', 'overdue_escalated', 'new', 'new', 'dispatch deadline passed 212.0 h ago', '{"stage": "dispatch", "due_at": "2026-06-06T13:00:00", "hours_overdue": 212.0}');
INSERT INTO public.case_history VALUES (2, 5, '2026-06-15 09:00:00', '督办系统', 'overdue_escalated', 'false_alarm', 'false_alarm', 'close deadline passed 153.0 h ago', '{"stage": "close", "due_at": "2026-06-09T00:00:00", "hours_overdue": 153.0}');
INSERT INTO public.case_history VALUES (5, 2, '2026-06-15 09:00:00', '督办系统', 'overdue_escalated', 'new', 'new', 'dispatch deadline passed 144.0 h ago', '{"stage": "dispatch", "due_at": "2026-06-09T09:00:00", "hours_overdue": 144.0}');
INSERT INTO public.case_history VALUES (6, 2, '2026-06-15 09:00:00', '督办系统', 'overdue_escalated', 'new', 'new', 'dispatch deadline passed 144.0 h ago', '{"stage": "dispatch", "due_at": "2026-06-09T09:00:00", "hours_overdue": 144.0}');
INSERT INTO public.case_history VALUES (3, 3, '2026-06-15 09:00:00', '督办系统', 'overdue_escalated', 'dispatched', 'dispatched', 'verify deadline passed 129.0 h ago', '{"stage": "verify", "due_at": "2026-06-10T00:00:00", "hours_overdue": 129.0}');


--
-- Data for Name: cases; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.cases VALUES (1, '91330502MA2B3C4D01', '2026-06', 'red', 0.91, '[{"group": "payroll", "contribution": 0.42, "feature": "pay_delay_days_3m", "value": 17.0, "text_zh": "近三个月工资平均延迟17天", "text_en": "wages paid 17 days late on average"}]', 'anxin-arrears', '1', 'E', '330502', '住建局+人社劳动监察大队', '330502', 'closed', '2026-06-05 21:00:00', NULL, 7, '2026-06-05 09:00:00', '2026-06-05 21:00:00', '核查员李', 0, NULL, 'confirmed', '2026-06-05 15:00:00', 'red', '2026-06', 'anxin-arrears', '1', 13, 99000, '2026-06-05 21:00:00');
INSERT INTO public.cases VALUES (4, '91330502MA2B3C4D04', '2026-07', 'red', 0.91, '[]', 'anxin-arrears', '2', 'G', '330502', '人社劳动监察大队', '330502', 'new', '2026-06-05 09:00:00', '2026-06-05 13:00:00', 3, '2026-06-05 09:00:00', '2026-06-15 09:00:00', '督办系统', 1, 'dispatch', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO public.cases VALUES (7, '91330502MA2B3C4D01', '2026-07', 'red', 0.91, '[{"group": "payroll", "contribution": 0.42, "feature": "pay_delay_days_3m", "value": 17.0, "text_zh": "近三个月工资平均延迟17天", "text_en": "wages paid 17 days late on average"}]', 'anxin-arrears', '2', 'E', '330502', '住建局+人社劳动监察大队', '330502', 'new', '2026-06-06 09:00:00', '2026-06-06 13:00:00', 2, '2026-06-06 09:00:00', '2026-06-15 09:00:00', '督办系统', 1, 'dispatch', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO public.cases VALUES (2, '91330502MA2B3C4D02', '2026-06', 'red', 0.91, '[]', 'anxin-arrears', '1', 'C', '330502', '人社劳动监察大队', '330502', 'false_alarm', '2026-06-06 00:00:00', '2026-06-09 00:00:00', 5, '2026-06-05 09:00:00', '2026-06-15 09:00:00', '督办系统', 1, 'close', 'false_alarm', '2026-06-06 00:00:00', 'red', '2026-06', 'anxin-arrears', '1', NULL, NULL, NULL);
INSERT INTO public.cases VALUES (5, '91330502MA2B3C4D05', '2026-06', 'yellow', 0.35, '[]', 'anxin-arrears', '1', 'E', '330521', '住建局+人社劳动监察大队', '330521', 'new', '2026-06-05 09:00:00', '2026-06-09 09:00:00', 2, '2026-06-05 09:00:00', '2026-06-15 09:00:00', '督办系统', 1, 'dispatch', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO public.cases VALUES (6, '91330502MA2B3C4D06', '2026-06', 'yellow', 0.35, '[]', 'anxin-arrears', '1', 'K', '330502', '人社劳动监察大队', '330502', 'new', '2026-06-05 09:00:00', '2026-06-09 09:00:00', 2, '2026-06-05 09:00:00', '2026-06-15 09:00:00', '督办系统', 1, 'dispatch', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO public.cases VALUES (3, '91330502MA2B3C4D03', '2026-06', 'orange', 0.62, '[]', 'anxin-arrears', '1', 'C', '330521', '人社劳动监察大队', '330521', 'dispatched', '2026-06-06 00:00:00', '2026-06-10 00:00:00', 3, '2026-06-05 09:00:00', '2026-06-15 09:00:00', '督办系统', 1, 'verify', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_migrations VALUES ('0001_initial', '2026-11-30 01:21:01');
INSERT INTO public.schema_migrations VALUES ('0002_outcomes_and_escalation', '2026-11-30 01:21:01');
INSERT INTO public.schema_migrations VALUES ('0003_one_open_case_per_enterprise', '2026-11-30 01:21:01');


--
-- Name: cases_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.cases_id_seq', 7, true);


--
-- Name: case_history case_history_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.case_history
    ADD CONSTRAINT case_history_pkey PRIMARY KEY (case_id, seq);


--
-- Name: cases cases_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.cases
    ADD CONSTRAINT cases_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (name);


--
-- Name: ix_cases_due_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cases_due_at ON public.cases USING btree (due_at);


--
-- Name: ix_cases_enterprise_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cases_enterprise_id ON public.cases USING btree (enterprise_id);


--
-- Name: ix_cases_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cases_status ON public.cases USING btree (status);


--
-- Name: uq_cases_open_enterprise; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX uq_cases_open_enterprise ON public.cases USING btree (enterprise_id) WHERE ((status)::text <> 'closed'::text);


--
-- Name: case_history case_history_case_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.case_history
    ADD CONSTRAINT case_history_case_id_fkey FOREIGN KEY (case_id) REFERENCES public.cases(id);


--
-- PostgreSQL database dump complete
--


