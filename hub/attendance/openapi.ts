import type { OpenApiOperation, OpenApiPaths } from '../http/openapi.js';
import { errorResponse, json, jsonSchema } from '../http/openapi.js';
import { endServiceBody, reinstateBody } from '../org/exit.js';
import { MONTH_PATTERN } from '../http/schemas.js';

/** OpenAPI paths of the attendance module (relative to /api/v1). */
const tags = ['attendance'];
const q = (name: string, description: string, required = false, schema: Record<string, unknown> = { type: 'string' }) => ({ name, in: 'query' as const, required, description, schema });
const monthQ = q('month', 'YYYY-MM', true, { type: 'string', pattern: MONTH_PATTERN });
const opdQ = q('opd', 'OPD code (an OPD admin may only give their own)');
const formatQ = q('format', 'json (default), csv, xlsx or pdf', false, { type: 'string', enum: ['json', 'csv', 'xlsx', 'pdf'] });
const dialectQ = q('csv_dialect', "CSV only. en (default): ',' between fields, '.' decimals; id: for Excel in an Indonesian locale — ';', ',' decimals, UTF-8 BOM", false, { type: 'string', enum: ['en', 'id'] });
const idP = { name: 'id', in: 'path' as const, required: true, schema: { type: 'string' } };
const report = (summary: string, description: string): OpenApiOperation => ({
  summary,
  description,
  tags,
  parameters: [monthQ, opdQ, formatQ, dialectQ],
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
const nipP = { name: 'nip', in: 'path' as const, required: true, schema: { type: 'string' } };
const exitRow = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, nip: { type: 'string' }, from_date: { type: 'string', format: 'date' }, reason: { type: 'string', enum: ['pensiun', 'berhenti', 'meninggal', 'mutasi_keluar'] },
    note: { type: ['string', 'null'] }, ended_by: { type: 'string' }, ended_at: { type: 'string' },
    reinstated_from: { type: ['string', 'null'], format: 'date' }, reinstated_by: { type: ['string', 'null'] }, reinstated_at: { type: ['string', 'null'] },
  },
};
const service = (summary: string, description: string, body: Parameters<typeof jsonSchema>[0], ok: '200' | '201'): OpenApiOperation => ({
  summary,
  description,
  tags,
  parameters: [nipP],
  requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(body) } } },
  responses: {
    [ok]: json(exitRow, 'The end-of-service record'),
    '400': errorResponse('Invalid date or reason, or a date out of order'),
    '403': errorResponse('Not a BKPSDM user'),
    '404': errorResponse('Unknown NIP'),
    '409': errorResponse('Service already ended / not ended'),
  },
});
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
  '/staff/exits': {
    get: { summary: 'Ends of service on record, newest first (OPD admins: their own OPD)', tags, parameters: [opdQ, q('open', 'true: only those not reinstated')], responses: { '200': json({ type: 'array', items: exitRow }, 'List') } },
  },
  '/staff/{nip}/end': {
    post: service(
      'End of service: pensiun, berhenti, meninggal, mutasi_keluar (BKPSDM only)',
      'From `from` on the employee is not employed: those days are not counted, later months are not derived, the exit month\'s TPP is paid pro rata to the working days in service. A future date keeps the employee active until then.',
      endServiceBody,
      '201',
    ),
  },
  '/staff/{nip}/reinstate': {
    post: service('Reinstate an employee whose service ended (BKPSDM only)', 'In service again from `from`; the days between the exit and `from` stay out of service. The exit stays on record.', reinstateBody, '200'),
  },
  '/punches/pending': { get: { summary: 'Clock-unverified punches waiting for review', tags, parameters: [opdQ], responses: { '200': { description: 'List, with the true time suggested by terminal health if any' } } } },
  '/punches/review-bulk': {
    post: {
      summary: 'Review every clock-unverified punch of one kiosk in a period: accept with the suggested true time, accept as stamped, or reject',
      tags: ['attendance'],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['device', 'from', 'to', 'action'], properties: { device: { type: 'string' }, from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, action: { type: 'string', enum: ['suggested', 'accept', 'reject'] } } } } } },
      responses: { '200': { description: '{reviewed, without_suggestion}' }, '400': { description: 'bad period' } },
    },
  },
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
