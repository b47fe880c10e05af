// The API drctl imports in each region: our own Swagger 2.0 definition equivalent to the API Gateway
// console's "Example API" (PetStore: GET /, GET and POST /pets, GET /pets/{petId}, the CORS OPTIONS
// methods and the Pets/Pet/NewPet/PetType/NewPetResponse/Empty models; docs/design/aws-behaviour.md §5), plus
// GET /health, a MOCK that answers {"status":"ok","region":"<region>"} so a probe can tell which
// region answered. Swagger 2.0 because API Gateway reads x-amazon-apigateway-endpoint-configuration
// at the top level only there (in OpenAPI 3 only inside servers[]: aws/serverless-application-model#2396).

export interface JsonObject {
  [key: string]: JsonValue;
}
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

export interface PetstoreOptions {
  region: string;
  /** The API's name (info.title): API Gateway names the imported API after it. */
  title: string;
  /** info.description: becomes the API's description. */
  description: string;
}

/** Resource policy of a private API reachable only through one VPC endpoint (docs/design/aws-behaviour.md §5). */
export function privateApiPolicy(vpcEndpointId: string): JsonObject {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: '*',
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
      },
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
        Condition: { StringNotEquals: { 'aws:SourceVpce': vpcEndpointId } },
      },
    ],
  };
}

/** The definition alone: no endpoint configuration or policy (what the definition hash covers). */
export function petstoreDefinition(o: PetstoreOptions): JsonObject {
  // The console's example moved from petstore-demo-endpoint.execute-api.com to a per-region backend.
  const backend = `http://petstore.execute-api.${o.region}.amazonaws.com/petstore/pets`;
  const corsOrigin = {
    'Access-Control-Allow-Origin': { type: 'string', description: 'URI that may access the resource' },
  };
  const okWith = (schema: string | undefined, headers: JsonObject = corsOrigin): JsonObject => ({
    '200': {
      description: 'Successful operation',
      ...(schema ? { schema: { $ref: `#/definitions/${schema}` } } : {}),
      headers,
    },
  });
  const corsDefault: JsonObject = {
    default: {
      statusCode: '200',
      responseParameters: { 'method.response.header.Access-Control-Allow-Origin': "'*'" },
    },
  };
  const mockRequest = { 'application/json': '{"statusCode": 200}' };
  const preflight = (methods: string, parameters: JsonValue[] = []): JsonObject => ({
    consumes: ['application/json'],
    produces: ['application/json'],
    parameters,
    responses: okWith('Empty', {
      'Access-Control-Allow-Origin': { type: 'string' },
      'Access-Control-Allow-Methods': { type: 'string' },
      'Access-Control-Allow-Headers': { type: 'string' },
    }),
    'x-amazon-apigateway-integration': {
      type: 'mock',
      requestTemplates: mockRequest,
      passthroughBehavior: 'when_no_match',
      responses: {
        default: {
          statusCode: '200',
          responseParameters: {
            'method.response.header.Access-Control-Allow-Methods': `'${methods}'`,
            'method.response.header.Access-Control-Allow-Headers':
              "'Content-Type,X-Amz-Date,Authorization,X-Api-Key'",
            'method.response.header.Access-Control-Allow-Origin': "'*'",
          },
        },
      },
    },
  });
  const petIdParam: JsonObject = {
    name: 'petId',
    in: 'path',
    description: 'The id of the pet to retrieve',
    required: true,
    type: 'string',
  };

  return {
    swagger: '2.0',
    info: { title: o.title, description: o.description, version: '1.0' },
    schemes: ['https'],
    paths: {
      '/': {
        get: {
          tags: ['pets'],
          description: 'PetStore HTML web page containing API usage information',
          consumes: ['application/json'],
          produces: ['text/html'],
          responses: {
            '200': {
              description: 'Successful operation',
              headers: { 'Content-Type': { type: 'string', description: 'Media type of request' } },
            },
          },
          'x-amazon-apigateway-integration': {
            type: 'mock',
            requestTemplates: mockRequest,
            passthroughBehavior: 'when_no_match',
            responses: {
              default: {
                statusCode: '200',
                responseParameters: { 'method.response.header.Content-Type': "'text/html'" },
                responseTemplates: { 'text/html': welcomePage(o.region) },
              },
            },
          },
        },
      },
      '/health': {
        get: {
          tags: ['health'],
          description: 'Which region answered: for the canary and the failover drill',
          produces: ['application/json'],
          responses: okWith('Health', {}),
          'x-amazon-apigateway-integration': {
            type: 'mock',
            requestTemplates: mockRequest,
            passthroughBehavior: 'when_no_match',
            responses: {
              default: {
                statusCode: '200',
                responseTemplates: {
                  'application/json': JSON.stringify({ status: 'ok', region: o.region }),
                },
              },
            },
          },
        },
      },
      '/pets': {
        get: {
          tags: ['pets'],
          summary: 'List all pets',
          produces: ['application/json'],
          parameters: [
            {
              name: 'type',
              in: 'query',
              description: 'The type of pet to retrieve',
              required: false,
              type: 'string',
            },
            {
              name: 'page',
              in: 'query',
              description: 'Page number of results to return.',
              required: false,
              type: 'string',
            },
          ],
          responses: okWith('Pets'),
          'x-amazon-apigateway-integration': {
            type: 'http',
            httpMethod: 'GET',
            uri: backend,
            passthroughBehavior: 'when_no_match',
            requestParameters: {
              'integration.request.querystring.page': 'method.request.querystring.page',
              'integration.request.querystring.type': 'method.request.querystring.type',
            },
            responses: corsDefault,
          },
        },
        post: {
          tags: ['pets'],
          operationId: 'CreatePet',
          summary: 'Create a pet',
          consumes: ['application/json'],
          produces: ['application/json'],
          parameters: [
            { in: 'body', name: 'NewPet', required: true, schema: { $ref: '#/definitions/NewPet' } },
          ],
          responses: okWith('NewPetResponse'),
          'x-amazon-apigateway-integration': {
            type: 'http',
            httpMethod: 'POST',
            uri: backend,
            passthroughBehavior: 'when_no_match',
            responses: corsDefault,
          },
        },
        options: preflight('POST,GET,OPTIONS'),
      },
      '/pets/{petId}': {
        get: {
          tags: ['pets'],
          operationId: 'GetPet',
          summary: 'Info for a specific pet',
          produces: ['application/json'],
          parameters: [petIdParam],
          responses: okWith('Pet'),
          'x-amazon-apigateway-integration': {
            type: 'http',
            httpMethod: 'GET',
            uri: `${backend}/{petId}`,
            passthroughBehavior: 'when_no_match',
            requestParameters: { 'integration.request.path.petId': 'method.request.path.petId' },
            responses: corsDefault,
          },
        },
        options: preflight('GET,OPTIONS', [petIdParam]),
      },
    },
    definitions: {
      Pets: { type: 'array', items: { $ref: '#/definitions/Pet' } },
      Empty: { type: 'object' },
      NewPetResponse: {
        type: 'object',
        properties: { pet: { $ref: '#/definitions/Pet' }, message: { type: 'string' } },
      },
      Pet: {
        type: 'object',
        properties: { id: { type: 'integer' }, type: { type: 'string' }, price: { type: 'number' } },
      },
      NewPet: {
        type: 'object',
        properties: { type: { $ref: '#/definitions/PetType' }, price: { type: 'number' } },
      },
      PetType: { type: 'string', enum: ['dog', 'cat', 'fish', 'bird', 'gecko'] },
      Health: {
        type: 'object',
        properties: { status: { type: 'string' }, region: { type: 'string' } },
      },
    },
  };
}

/**
 * What ImportRestApi receives: the definition plus the private access extensions, so a fresh API
 * is born with its endpoint and policy (no window in which it is deployable but unprotected).
 */
export function petstoreOpenApi(o: PetstoreOptions & { vpcEndpointId: string }): JsonObject {
  return {
    ...petstoreDefinition(o),
    'x-amazon-apigateway-endpoint-configuration': { vpcEndpointIds: [o.vpcEndpointId] },
    'x-amazon-apigateway-policy': privateApiPolicy(o.vpcEndpointId),
  };
}

function welcomePage(region: string): string {
  return [
    '<html><head><style>body { color: #333; font-family: sans-serif; }</style></head><body>',
    '<h1>Welcome to your Pet Store API</h1>',
    `<p>You have successfully deployed your first API. This copy answers from ${region}.</p>`,
    '<p>Try GET /pets, POST /pets with {"type": "dog", "price": 249.99}, GET /pets/1, or GET /health.</p>',
    '</body></html>',
  ].join('');
}
