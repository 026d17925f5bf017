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
    updated_by character varying(200) NOT NULL
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

INSERT INTO public.case_history VALUES (1, 1, '2026-06-05 10:00:00', '老王', 'opened', NULL, 'new', '', '{}');
INSERT INTO public.case_history VALUES (1, 2, '2026-06-05 11:00:00', '老王', 'transition', 'new', 'dispatched', '', '{}');
INSERT INTO public.case_history VALUES (1, 3, '2026-06-05 12:00:00', '老王', 'transition', 'dispatched', 'verifying', '', '{}');
INSERT INTO public.case_history VALUES (1, 4, '2026-06-05 13:00:00', '老王', 'transition', 'verifying', 'confirmed', '', '{"workers_affected": 7, "amount_owed": 51000.0}');
INSERT INTO public.case_history VALUES (2, 1, '2026-06-05 10:00:00', '老王', 'opened', NULL, 'new', '', '{}');
INSERT INTO public.case_history VALUES (2, 2, '2026-06-05 11:00:00', '老王', 'transition', 'new', 'dispatched', '', '{}');
INSERT INTO public.case_history VALUES (2, 3, '2026-06-05 12:00:00', '老王', 'transition', 'dispatched', 'verifying', '', '{}');
INSERT INTO public.case_history VALUES (2, 4, '2026-06-05 13:00:00', '老王', 'transition', 'verifying', 'false_alarm', '', '{}');
INSERT INTO public.case_history VALUES (2, 5, '2026-06-05 14:00:00', '老王', 'transition', 'false_alarm', 'closed', '', '{}');


--
-- Data for Name: cases; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.cases VALUES (1, '91330502MA2B3C4D01', '2026-05', 'orange', 0.62, '[{"feature": "pay_delay", "text_zh": "工资延迟"}]', 'anxin-arrears', '1', 'E', '330502', '人社劳动监察大队', '330502', 'confirmed', '2026-06-05 13:00:00', '2026-06-12 13:00:00', 4, '2026-06-05 09:00:00', '2026-06-05 13:00:00', '老王');
INSERT INTO public.cases VALUES (2, '91330502MA2B3C4D02', '2026-05', 'red', 0.91, '[{"feature": "pay_delay", "text_zh": "工资延迟"}]', 'anxin-arrears', '1', 'C', '330502', '人社劳动监察大队', '330502', 'closed', '2026-06-05 14:00:00', NULL, 5, '2026-06-05 09:00:00', '2026-06-05 14:00:00', '老王');


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_migrations VALUES ('0001_initial', '2026-11-30 01:21:01');


--
-- Name: cases_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.cases_id_seq', 2, true);


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
-- Name: ix_cases_enterprise_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cases_enterprise_id ON public.cases USING btree (enterprise_id);


--
-- Name: ix_cases_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cases_status ON public.cases USING btree (status);


--
-- Name: case_history case_history_case_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.case_history
    ADD CONSTRAINT case_history_case_id_fkey FOREIGN KEY (case_id) REFERENCES public.cases(id);


--
-- PostgreSQL database dump complete
--


