import type { OpenApiOperation, OpenApiPaths } from '../http/openapi.js';
import { errorResponse } from '../http/openapi.js';

/** OpenAPI paths of the attendance module (relative to /api/v1). */
const tags = ['attendance'];
const q = (name: string, description: string, required = false, schema: Record<string, unknown> = { type: 'string' }) => ({ name, in: 'query' as const, required, description, schema });
const monthQ = q('month', 'YYYY-MM', true, { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' });
const opdQ = q('opd', 'OPD code (an OPD admin may only give their own)');
const formatQ = q('format', 'json (default), csv, xlsx or pdf', false, { type: 'string', enum: ['json', 'csv', 'xlsx', 'pdf'] });
const idP = { name: 'id', in: 'path' as const, required: true, schema: { type: 'string' } };
const report = (summary: string, description: string): OpenApiOperation => ({
  summary,
  description,
  tags,
  parameters: [monthQ, opdQ, formatQ],
  responses: {
    '200': {
      description: 'The report: JSON array (one object per employee), CSV, XLSX or PDF',
      content: { 'application/json': { schema: { type: 'array', items: { type: 'object' } } }, 'text/csv': { schema: { type: 'string' } }, 'application/pdf': { schema: { type: 'string', format: 'binary' } } },
    },
    '400': errorResponse('Bad month or format'),
    '403': errorResponse('Another OPD than yours'),
  },
});
const exceptionBody = {
  type: 'object',
  required: ['nip', 'type', 'from', 'to'],
  properties: {
    nip: { type: 'string' },
    type: { type: 'string', enum: ['cuti_tahunan', 'cuti_besar', 'cuti_sakit', 'cuti_melahirkan', 'cuti_alasan_penting', 'cltn', 'dinas_luar', 'tugas_belajar'] },
    from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date' },
    evidence: { type: 'string' },
    note: { type: 'string' },
  },
};
const decide = (what: string): OpenApiOperation => ({ summary: what, tags, parameters: [idP], responses: { '200': { description: 'The exception after the decision' }, '403': errorResponse('Not your OPD'), '404': errorResponse('No such exception'), '409': errorResponse('Overlaps an approved exception') } });

export const ATTENDANCE_OPENAPI: OpenApiPaths = {
  '/reports/attendance': { get: report('Monthly attendance recap', 'Per employee: totals and the day records (status, code, in/out, minutes late/early, percent, rule lines).') },
  '/reports/tpp': { get: report('Monthly TPP', 'Per employee: nip, name, opd, base, deduction_pct (before the cap), disiplin, produktivitas_score, produktivitas, total (integer rupiah), days.') },
  '/reports/late-today': {
    get: { summary: 'Who is late today (per OPD)', tags, parameters: [q('date', 'YYYY-MM-DD, default today'), opdQ], responses: { '200': { description: '{date, late[], not_in[]}' } } },
  },
  '/exceptions': {
    get: { summary: 'Leave / duty requests', tags, parameters: [q('status', 'pending|approved|rejected'), q('month', 'YYYY-MM'), opdQ], responses: { '200': { description: 'List' } } },
    post: { summary: 'Request leave / dinas luar / tugas belajar (pending until approved)', tags, requestBody: { required: true, content: { 'application/json': { schema: exceptionBody } } }, responses: { '201': { description: 'Created (pending)' }, '400': errorResponse('Invalid'), '403': errorResponse('Not your OPD') } },
  },
  '/exceptions/{id}/approve': { post: decide('Approve (the days re-derive)') },
  '/exceptions/{id}/reject': { post: decide('Reject') },
  '/punches/pending': { get: { summary: 'Clock-unverified punches waiting for review', tags, parameters: [opdQ], responses: { '200': { description: 'List, with the true time suggested by terminal health if any' } } } },
  '/punches/{id}/review': {
    post: {
      summary: 'Accept (as stamped, at a corrected time, or at the suggested time) or reject a clock-unverified punch',
      tags,
      parameters: [idP],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['action'], properties: { action: { type: 'string', enum: ['accept', 'reject'] }, correctedAt: { type: 'string', description: 'ISO-8601 with offset' }, useSuggested: { type: 'boolean' } } } } } },
      responses: { '200': { description: 'Reviewed' }, '403': errorResponse('Not your OPD'), '404': errorResponse('No such punch'), '409': errorResponse('Needs no review') },
    },
  },
};
